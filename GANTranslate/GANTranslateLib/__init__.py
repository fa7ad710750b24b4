"""GANTranslate's engine: model packages, networks and geometry-exact inference.

Imports neither slicer, qt nor vtk (except the ``*mrml*`` glue, which only the Slicer module imports),
so the same code serves the Slicer module's background process, the command line and the trainer.
"""

__version__ = "0.1.0"
