"""GANTranslate trainer."""
