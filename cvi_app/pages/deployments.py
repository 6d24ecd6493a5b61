"""Public pages (`/deployments`): the pages visitors talk to a replica on, and their settings."""

import reflex as rx

from cvi_app import styles
from cvi_app.components.layout import page_layout, scroll_region
from cvi_app.state.app_state import AppState
from cvi_app.state.deployments_state import DeploymentsState

_D = DeploymentsState.draft


def _field(label: str, name: str, *, hint: str = "", **props) -> rx.Component:
    control = rx.input(name=name, id=f"page-{name}", default_value=_D[name], width="100%", **props)
    return rx.vstack(
        rx.el.label(label, html_for=f"page-{name}", style={"font_weight": "500"}),
        control,
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        spacing="1",
        width="100%",
    )


def _area(label: str, name: str, *, hint: str = "", rows: str = "3") -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"page-{name}", style={"font_weight": "500"}),
        rx.text_area(name=name, id=f"page-{name}", default_value=_D[name], rows=rows, width="100%"),
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        spacing="1",
        width="100%",
    )


def _flag(name: str, label: str) -> rx.Component:
    """An on/off page option, a native checkbox inside its label."""
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, default_checked=_D[name] == "on"),
        " " + label,
        style={"display": "flex", "gap": "0.5rem", "align_items": "center"},
    )


def _choice(label: str, name: str, options: rx.Var, *, blank: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"page-{name}", style={"font_weight": "500"}),
        rx.el.select(
            rx.el.option(blank, value=""),
            rx.foreach(options, lambda o: rx.el.option(o[1], value=o[0])),
            name=name,
            id=f"page-{name}",
            default_value=_D[name],
            style=styles.NATIVE_SELECT,
        ),
        spacing="1",
        width="100%",
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading(
                rx.cond(DeploymentsState.editing != "", "Change the page", "New page"),
                size="5",
                as_="h2",
            ),
            rx.cond(
                DeploymentsState.errors.length() > 0,
                rx.callout.root(
                    rx.callout.text("The page was not saved:"),
                    rx.el.ul(rx.foreach(DeploymentsState.errors, lambda e: rx.el.li(e))),
                    color="red",
                    role="alert",
                    width="100%",
                ),
            ),
            rx.grid(
                _field("Title", "title", hint="What visitors see first."),
                _field(
                    "Address",
                    "slug",
                    hint="The page is at /p/ and this (letters, digits, dashes).",
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            _area("Introduction", "intro", hint="A sentence or two under the title."),
            rx.grid(
                _field("Logo", "logo_url", hint="An https:// address or a path on this site."),
                rx.vstack(
                    rx.el.label(
                        "Accent colour", html_for="page-accent_color", style={"font_weight": "500"}
                    ),
                    rx.el.input(
                        type="color",
                        name="accent_color",
                        id="page-accent_color",
                        default_value=_D["accent_color"],
                        style={"width": "4rem", "height": "2rem"},
                    ),
                    spacing="1",
                ),
                _choice("Persona", "persona_id", DeploymentsState.personas, blank="The default"),
                _choice("Replica", "replica_id", DeploymentsState.replicas, blank="The persona's"),
                _field("Language", "language"),
                rx.vstack(
                    _flag("captions", "Show captions"),
                    _flag("transparent", "Transparent background (the replica on your page)"),
                    rx.cond(
                        AppState.mode == "tavus",
                        _flag("record", "Record conversations (Tavus stores the recording)"),
                    ),
                    justify="end",
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            _area("Greeting", "greeting", hint="The replica's first words (optional)."),
            _area("Context", "context", hint="What the replica should know (optional)."),
            rx.heading("Limits", size="3", as_="h3"),
            rx.grid(
                _field("Conversations at once", "max_live", type="number", min="1", max="1000"),
                _field(
                    "Starts per visitor per hour",
                    "starts_per_hour",
                    type="number",
                    min="1",
                    max="1000",
                ),
                _field(
                    "Longest conversation (seconds)",
                    "max_duration_s",
                    type="number",
                    min="30",
                    max="14400",
                ),
                columns=rx.breakpoints(initial="1", sm="3"),
                spacing="3",
                width="100%",
            ),
            rx.heading("Who may start", size="3", as_="h3"),
            rx.el.fieldset(
                rx.el.legend("Access", style=styles.VISUALLY_HIDDEN),
                rx.foreach(
                    DeploymentsState.access_kinds,
                    lambda kind: rx.el.label(
                        rx.el.input(
                            type="radio",
                            name="access",
                            value=kind[0],
                            default_checked=_D["access"] == kind[0],
                        ),
                        " ",
                        kind[1],
                        style={"display": "flex", "gap": "0.5rem", "align_items": "center"},
                    ),
                ),
                style={"border": 0, "padding": 0, "margin": 0, "display": "grid", "gap": "0.25rem"},
            ),
            _field(
                "Access code",
                "access_code",
                type="password",
                auto_complete="new-password",
                hint=rx.cond(
                    DeploymentsState.has_code,
                    "A code is set; type a new one to change it.",
                    "Only for access by code: what visitors type.",
                ),
            ),
            _area(
                "Sites that may embed the page",
                "allowed_origins",
                hint="One origin per line, like https://shop.example.com (none: no embedding).",
                rows="2",
            ),
            rx.hstack(
                rx.button("Save page", type="submit"),
                rx.button(
                    "Cancel", type="button", variant="soft", on_click=DeploymentsState.close_form
                ),
                spacing="3",
            ),
            spacing="3",
            width="100%",
        ),
        key=DeploymentsState.form_key,
        on_submit=DeploymentsState.save,
        aria_label="Page settings",
        width="100%",
    )


def _copyable(text, name) -> rx.Component:
    """Text to copy whole (a snippet, a link), wrapped on narrow screens."""
    return rx.el.pre(
        rx.el.code(text),
        aria_label=name,
        tab_index=0,
        style={
            "white_space": "pre-wrap",
            "word_break": "break-all",
            "padding": "0.5rem",
            "background": "var(--gray-a3)",
            "border_radius": "var(--radius-2)",
            "font_size": "var(--font-size-1)",
            "margin": 0,
        },
    )


def _snippet(row) -> rx.Component:
    code = (
        '<iframe src="'
        + DeploymentsState.origin
        + row["address"]
        + '?embed=1" allow="camera; microphone; display-capture; autoplay" '
        + 'style="width:100%;height:640px;border:0" title="'
        + row["title"]
        + '"></iframe>'
    )
    return rx.el.details(
        rx.el.summary(
            "Embed snippet", rx.el.span(" for ", row["title"], style=styles.VISUALLY_HIDDEN)
        ),
        _copyable(code, "Embed snippet for " + row["title"]),
        rx.text(
            "Works only on the sites the page lists as allowed to embed it.",
            size="1",
            color_scheme="gray",
        ),
    )


def _table() -> rx.Component:
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *(
                    rx.table.column_header_cell(h)
                    for h in ("Page", "Who may start", "Live now", "Actions")
                )
            )
        ),
        rx.table.body(
            rx.foreach(
                DeploymentsState.rows,
                lambda row: rx.table.row(
                    rx.table.cell(
                        rx.vstack(
                            rx.text(row["title"], weight="medium"),
                            rx.link(row["address"], href=row["address"], is_external=True),
                            _snippet(row),
                            spacing="1",
                        )
                    ),
                    rx.table.cell(row["access"]),
                    rx.table.cell(row["live"]),
                    rx.table.cell(
                        rx.hstack(
                            rx.button(
                                "Change",
                                rx.el.span(" ", row["title"], style=styles.VISUALLY_HIDDEN),
                                size="1",
                                variant="soft",
                                on_click=DeploymentsState.edit(row["slug"]),
                            ),
                            rx.button(
                                "Make a link",
                                rx.el.span(" to ", row["title"], style=styles.VISUALLY_HIDDEN),
                                size="1",
                                variant="soft",
                                on_click=DeploymentsState.make_link(row["slug"]),
                            ),
                            spacing="2",
                            wrap="wrap",
                        )
                    ),
                    data_page=row["slug"],
                ),
            )
        ),
        width="100%",
    )
    return scroll_region("Public pages", table, min_width="40rem")


def _link() -> rx.Component:
    return rx.cond(
        DeploymentsState.link != "",
        rx.vstack(
            rx.text("A signed link to /p/", DeploymentsState.link_for, ":"),
            _copyable(DeploymentsState.link, "Signed link"),
            width="100%",
        ),
    )


@page_layout
def deployments() -> rx.Component:
    """The public pages this caller manages."""
    return rx.vstack(
        rx.heading("Public pages", size="8", as_="h1"),
        rx.cond(
            DeploymentsState.allowed,
            rx.vstack(
                rx.text(
                    "A public page lets your customers talk to a replica without an account: "
                    "share its address, or embed it in your own site."
                ),
                rx.cond(
                    DeploymentsState.form_open,
                    _form(),
                    rx.button("New page", on_click=DeploymentsState.new_page),
                ),
                rx.cond(
                    DeploymentsState.rows.length() > 0,
                    _table(),
                    rx.text("No pages yet.", color_scheme="gray"),
                ),
                rx.hstack(
                    rx.el.label("New links last", html_for="link-days"),
                    rx.el.select(
                        *(
                            rx.el.option(f"{d} days" if d != "1" else "1 day", value=d)
                            for d in ("1", "7", "30", "90")
                        ),
                        id="link-days",
                        value=DeploymentsState.link_days,
                        on_change=DeploymentsState.set_link_days,
                        style=styles.NATIVE_SELECT,
                    ),
                    align="center",
                    spacing="2",
                ),
                _link(),
                spacing="4",
                width="100%",
            ),
            rx.text("You may not manage public pages.", color_scheme="gray"),
        ),
        spacing="4",
        width="100%",
        padding_bottom="2rem",
    )
