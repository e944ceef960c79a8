"""vaewb: log runs from your own code into folders VAE Workbench follows live (standard library only).

    import vaewb
    run = vaewb.init(project="mnist", name="my vae", config={"lr": 1e-3}, dir="runs")
    run.log({"train/loss": 120.5}, step=100)
    run.log_images("samples/prior", images, step=100)
    run.save_checkpoint(model)
    run.finish()

The folder format: FORMAT.md beside this package. Diagnostics for PyTorch models: vaewb.torch.evaluate.
"""
from .folder import FORMAT, FORMAT_VERSION
from .run import Run, init

__all__ = ["init", "Run", "FORMAT", "FORMAT_VERSION"]
__version__ = "0.1.0"
