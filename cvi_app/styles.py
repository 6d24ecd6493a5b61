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

# Read by screen readers, not shown: the rest of a short button label ("Reset password" + " of
# ada@example.com"), so the accessible name still starts with the visible text.
VISUALLY_HIDDEN = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "overflow": "hidden",
    "clip": "rect(0 0 0 0)",
    "white_space": "nowrap",
}

NATIVE_SELECT = {
    "padding": "0.375rem 0.5rem",
    "border": "1px solid var(--gray-a7)",
    "border_radius": "var(--radius-2)",
    "background": "var(--color-surface)",
    "color": "var(--gray-12)",
    "font_size": "var(--font-size-2)",
    "max_width": "100%",
}
"""A plain `<select>` that looks like the theme's inputs (native: it posts with its form)."""
