"""What every rule and rule script holds, read from their text: each rule's results version (a library
change reruns exactly its stage), the declared model of the rules that build models, and each script's
stop handler before its imports."""

import ast
import re

import pytest

import digitstudy
from digitstudy.versions import RULE_STAGES
from helpers import REPO


# The rules whose jobs build a model from its name (training, predictions, the weight pictures).
BUILDS_MODELS = {"train_run", "predict_test", "predict_round", "plot_weights"}


def rule_blocks():
    """{rule name: its text} of every rule and checkpoint in workflow/rules/."""
    blocks = {}
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"(?m)^(?=(?:rule|checkpoint) \w+:)", path.read_text()):
            if match := re.match(r"(?:rule|checkpoint) (\w+):", block):
                blocks[match.group(1)] = block
    return blocks


SCRIPT_RULES = {name: block for name, block in rule_blocks().items() if "\n    script:" in block}


@pytest.mark.parametrize("rule", sorted(SCRIPT_RULES))
def test_every_rule_passes_its_own_stages_results_version(rule):
    assert f'        results=results_version("{rule}"),\n' in SCRIPT_RULES[rule]
    assert rule in RULE_STAGES


@pytest.mark.parametrize("rule", sorted(BUILDS_MODELS))
def test_the_rules_that_build_models_get_the_users_own(rule):
    assert "        declared_model=get_declared_model,\n" in SCRIPT_RULES[rule]
    script = re.search(r'script:\n\s+"\.\./scripts/(\w+\.py)"', SCRIPT_RULES[rule]).group(1)
    text = (REPO / "workflow" / "scripts" / script).read_text()
    assert "use_declared_model(snakemake.wildcards.model, snakemake.params.declared_model)" in text


@pytest.mark.parametrize("script", sorted(path.name for path in (REPO / "workflow" / "scripts").glob("*.py")))
def test_every_script_installs_its_stop_handler_before_its_imports(script):
    body = ast.parse((REPO / "workflow" / "scripts" / script).read_text()).body
    docstring, first_import, first_call = body[:3]
    assert isinstance(docstring.value, ast.Constant)
    assert ast.unparse(first_import) == "from digitstudy.scripting import job_started"
    assert ast.unparse(first_call) == "job_started(snakemake)"


def test_the_workflow_names_the_package_version_it_was_written_with():
    """A module fetched at one version, run with the package of another, stops in one line (common.smk)."""
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    assert re.search(r'^WORKFLOW_VERSION = "(.*)"$', common, re.MULTILINE).group(1) == digitstudy.__version__
