"""A dataset's classes as the figures and tables name them: the declared `classes` checked against the
data, and how one class is shown. Free of heavy imports: every plot job reads it."""

from .errors import DigitstudyError


def check_class_names(class_names, n_classes, dataset):
    """Stop on a `classes` list that does not name each of the data's classes once. The class count
    is known only from the data, so the first job that reads both checks them."""
    if class_names is not None and len(class_names) != n_classes:
        raise DigitstudyError(
            f"datasets.{dataset}.classes: {len(class_names)} names given, but the data of '{dataset}' "
            f"have {n_classes} classes (labels 0 to {n_classes - 1}): give one name per class, in label order"
        )
    return class_names


def class_name(label, class_names=None):
    """How a class is shown: its declared name, or else the label itself (a digit, a sum)."""
    return str(int(label)) if class_names is None else class_names[int(label)]
