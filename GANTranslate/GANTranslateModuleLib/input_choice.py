"""Which volume the panel offers as input, and what contrast it guesses it is (shown as a guess, never silent)."""
import re
from typing import Iterable, Optional

# Exactly the class the input selector shows (it hides child classes): never a label map, vector or tensor volume.
INPUT_CLASS = "vtkMRMLScalarVolumeNode"


def isTranslatableVolume(node) -> bool:
    """A plain scalar volume with one component and image data: what the engine can translate."""
    if node is None or node.GetClassName() != INPUT_CLASS:
        return False
    image = node.GetImageData()
    return image is not None and image.GetNumberOfScalarComponents() == 1


def firstTranslatableVolume(scene):
    """The first volume a user could pick in the input selector that is not itself a GANTranslate result."""
    for index in range(scene.GetNumberOfNodesByClass(INPUT_CLASS)):
        node = scene.GetNthNodeByClass(index, INPUT_CLASS)
        if isTranslatableVolume(node) and node.GetAttribute("GANTranslate.Synthetic") is None:
            return node
    return None


def sequenceBrowserOf(scene, node):
    """The sequence browser that shows ``node`` as one of its frames, or None."""
    browsers = scene.GetNodesByClass("vtkMRMLSequenceBrowserNode")
    for index in range(browsers.GetNumberOfItems()):
        browser = browsers.GetItemAsObject(index)
        if browser.IsProxyNodeID(node.GetID()):
            return browser
    return None


def guessContrast(texts: Iterable[Optional[str]], contrasts: Iterable[str]) -> Optional[str]:
    """The one offered contrast named as a word in the volume's name or series description (T1 in 'T1 MPRAGE',
    FLAIR in 'AX_FLAIR'), or None when none or several are named: a guess the panel shows as such."""
    found = set()
    for text in filter(None, texts):
        words = {w.upper() for w in re.split(r"[^A-Za-z0-9]+", text) if w}
        found |= {c for c in contrasts if c.upper() in words}
    return found.pop() if len(found) == 1 else None
