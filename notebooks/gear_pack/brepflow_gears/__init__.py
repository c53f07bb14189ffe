"""Gears for BrepFlow Lab: an example node pack."""
