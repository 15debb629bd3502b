"""The service's machinery, one package per role; docs/ARCHITECTURE.md has the layers and the one-way rule."""
