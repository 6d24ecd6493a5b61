"""Colours, spacing and shared style tokens, built on Radix colour scales."""

import reflex as rx

PAGE_MAX_WIDTH = "72rem"
SPACE = {"xs": "1", "sm": "2", "md": "4", "lg": "6"}


card_style = {
    "border": f"1px solid {rx.color('gray', 5)}",
    "border_radius": "12px",
    "padding": "1rem",
    "background": rx.color("gray", 1),
}
