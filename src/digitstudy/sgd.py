"""SGD with momentum as torch.optim.SGD computes it on the CPU, without its start-up cost.

torch.optim imports torch._dynamo (the compiler) on an optimizer's first step: about 1.5 s, more than
a quick-study run trains. This optimizer does the same tensor operations, in the same order, as
torch.optim.SGD's single-tensor path (the one it takes on the CPU; dampening 0, no weight decay, no
Nesterov), so a run gives bit for bit the numbers it gave; its state_dict has torch.optim.SGD's layout,
so a checkpoint saved by either loads into the other (tests/test_sgd.py checks both)."""

import torch


class MomentumSGD:
    """param <- param - lr * buffer, buffer <- momentum * buffer + grad (the first buffer is the
    first gradient); momentum 0: param <- param - lr * grad."""

    def __init__(self, params, lr, momentum=0.0):
        self.params = list(params)
        self.lr, self.momentum = float(lr), float(momentum)
        self.buffers = [None] * len(self.params)

    def zero_grad(self):
        """Gradients to None, as torch.optim does by default: the next backward writes them afresh."""
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self):
        for index, param in enumerate(self.params):
            if param.grad is None:
                continue
            grad = param.grad
            if self.momentum != 0:
                if self.buffers[index] is None:
                    self.buffers[index] = grad.detach().clone()
                else:
                    self.buffers[index].mul_(self.momentum).add_(grad, alpha=1)
                grad = self.buffers[index]
            param.add_(grad, alpha=-self.lr)

    def state_dict(self):
        """torch.optim.SGD's layout: per parameter index its momentum buffer, and one parameter group."""
        state = {index: {"momentum_buffer": buffer} for index, buffer in enumerate(self.buffers) if buffer is not None}
        group = {
            "lr": self.lr,
            "momentum": self.momentum,
            "dampening": 0,
            "weight_decay": 0,
            "nesterov": False,
            "maximize": False,
            "foreach": None,
            "differentiable": False,
            "fused": None,
            "params": list(range(len(self.params))),
        }
        return {"state": state, "param_groups": [group]}

    def load_state_dict(self, state_dict):
        [group] = state_dict["param_groups"]
        if len(group["params"]) != len(self.params):
            stored, here = len(group["params"]), len(self.params)
            raise ValueError(f"the saved optimizer has {stored} parameters, this model {here}")
        self.lr, self.momentum = float(group["lr"]), float(group["momentum"])
        saved = state_dict["state"]
        self.buffers = [
            saved[key]["momentum_buffer"].to(device=param.device, dtype=param.dtype).clone()
            if key in saved and saved[key].get("momentum_buffer") is not None
            else None
            for key, param in zip(group["params"], self.params)
        ]
