"""The Slicer side of GANTranslate: the panel, the translation and install logic, and the parameter node.

Unlike GANTranslateLib (the engine, which never imports slicer or qt), this package runs inside Slicer. Nothing
here imports torch, MONAI, jsonschema or any package a stock Slicer lacks at import time, so the panel always
sets up and can offer to install them.
"""
