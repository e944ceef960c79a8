"""A PyTorch MLP VAE's weights under the workbench's names (src-main/checkpoints/BUNDLE-FORMAT.md).

Dense kernels are [in, out] in the workbench (y = x @ kernel + bias) and torch.nn.Linear weights are [out, in], so
every weight is transposed. The pytorch/examples VAE (fc1, fc21, fc22, fc3, fc4) is recognised by itself; any other
MLP VAE maps its Linear layers with names={workbench layer: torch module name}, e.g.
{"encoder/dense_0": "enc.0", "encoder/mu": "mu", "encoder/logvar": "logvar", "decoder/dense_0": "dec.0", "decoder/out": "dec.2"}.
"""

PYTORCH_EXAMPLES = {
    "encoder/dense_0": "fc1",
    "encoder/mu": "fc21",
    "encoder/logvar": "fc22",
    "decoder/dense_0": "fc3",
    "decoder/out": "fc4",
}


def _layers(state, names):
    if names is None:
        if all(k + ".weight" in state for k in PYTORCH_EXAMPLES.values()):
            names = PYTORCH_EXAMPLES
        else:
            raise ValueError(
                "save_checkpoint: not the pytorch/examples VAE layout (fc1, fc21, fc22, fc3, fc4): "
                "pass names={workbench layer: module name} (see vaewb.checkpoint)"
            )
    return names


def checkpoint_tensors(model, names=None):
    """(tensors [(name, shape, values)], the workbench model config) of an MLP VAE's state dict."""
    state = model.state_dict() if hasattr(model, "state_dict") else dict(model)
    names = _layers(state, names)
    enc = sorted(k for k in names if k.startswith("encoder/dense_"))
    dec = sorted(k for k in names if k.startswith("decoder/dense_"))
    order = enc + ["encoder/mu", "encoder/logvar"] + dec + ["decoder/out"]
    missing = [k for k in order if k not in names]
    if missing:
        raise ValueError("save_checkpoint: names lacks %s" % ", ".join(missing))
    tensors = []
    for wb in order:
        module = names[wb]
        w = state.get(module + ".weight")
        b = state.get(module + ".bias")
        if w is None or b is None:
            raise ValueError("save_checkpoint: %s (%s) has no weight and bias in the model" % (module, wb))
        w = w.detach().cpu().float()
        out_f, in_f = w.shape
        tensors.append((wb + "/kernel", [in_f, out_f], w.t().contiguous().flatten().tolist()))
        tensors.append((wb + "/bias", [out_f], b.detach().cpu().float().flatten().tolist()))
    hidden = [int(state[names[k] + ".weight"].shape[0]) for k in enc]
    latent = int(state[names["encoder/mu"] + ".weight"].shape[0])
    config = {"model": {"kind": "vae", "arch": "mlp", "hidden": hidden, "latentDim": latent, "activation": "relu"}}
    return tensors, config
