"""Accounts (admins only): who may sign in, with which role; new accounts; password resets."""

import reflex as rx

from cvi_app import styles
from cvi_app.accounts.models import ROLES
from cvi_app.components.layout import page_layout, scroll_region
from cvi_app.state.accounts_state import AccountsState


def _new_account() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                value=AccountsState.new_email,
                on_change=AccountsState.set_new_email,
                type="email",
                placeholder="name@example.com",
                aria_label="New account's email",
                width="18rem",
            ),
            rx.input(
                value=AccountsState.new_password,
                on_change=AccountsState.set_new_password,
                type="password",
                auto_complete="new-password",
                placeholder="First password (10 characters or more)",
                aria_label="New account's password",
                width="18rem",
            ),
            rx.select(
                list(ROLES),
                value=AccountsState.new_role,
                on_change=AccountsState.set_new_role,
                custom_attrs={"aria-label": "New account's role"},
            ),
            rx.button("Add account", type="submit"),
            spacing="3",
            wrap="wrap",
            align="center",
        ),
        on_submit=AccountsState.create,
        aria_label="New account",
    )


def _reset(row) -> rx.Component:
    return rx.cond(
        AccountsState.reset_for == row["id"],
        rx.form(
            rx.hstack(
                rx.input(
                    value=AccountsState.reset_password,
                    on_change=AccountsState.set_reset_password,
                    type="password",
                    auto_complete="new-password",
                    aria_label="New password for " + row["email"],
                    width="14rem",
                ),
                rx.button("Save password", type="submit", size="1"),
                rx.button(
                    "Cancel",
                    type="button",
                    size="1",
                    variant="soft",
                    on_click=AccountsState.choose_reset(""),
                ),
                spacing="2",
                wrap="wrap",
            ),
            on_submit=AccountsState.save_reset,
        ),
        rx.button(
            "Reset password",
            rx.el.span(" of ", row["email"], style=styles.VISUALLY_HIDDEN),
            size="1",
            variant="soft",
            on_click=AccountsState.choose_reset(row["id"]),
        ),
    )


def _table() -> rx.Component:
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *(rx.table.column_header_cell(h) for h in ("Email", "Role", "Active", "Actions"))
            )
        ),
        rx.table.body(
            rx.foreach(
                AccountsState.rows,
                lambda row: rx.table.row(
                    rx.table.cell(row["email"], rx.text("since ", row["created"], size="1")),
                    rx.table.cell(
                        rx.select(
                            list(ROLES),
                            value=row["role"],
                            on_change=lambda role: AccountsState.change_role(row["id"], role),
                            custom_attrs={"aria-label": "Role of " + row["email"]},
                        )
                    ),
                    rx.table.cell(row["active"]),
                    rx.table.cell(
                        rx.hstack(
                            _reset(row),
                            rx.button(
                                rx.cond(row["active"] == "yes", "Switch off", "Switch on"),
                                rx.el.span(" ", row["email"], style=styles.VISUALLY_HIDDEN),
                                size="1",
                                variant="soft",
                                color_scheme=rx.cond(row["active"] == "yes", "red", "green"),
                                on_click=AccountsState.toggle_active(row["id"]),
                            ),
                            spacing="2",
                            wrap="wrap",
                        )
                    ),
                    data_account=row["email"],
                ),
            )
        ),
        width="100%",
    )
    return scroll_region("Accounts", table, min_width="44rem")


@page_layout
def accounts() -> rx.Component:
    """The team's accounts, for admins."""
    return rx.vstack(
        rx.heading("Accounts", size="8", as_="h1"),
        rx.cond(
            AccountsState.allowed,
            rx.vstack(
                rx.text(
                    "Admins manage accounts; operators start, watch and steer conversations; "
                    "viewers read the history and insights."
                ),
                rx.heading("Add an account", size="4", as_="h2"),
                _new_account(),
                rx.heading("The team", size="4", as_="h2"),
                _table(),
                spacing="4",
                width="100%",
            ),
            rx.text("Only admins can see the accounts."),
        ),
        spacing="4",
        width="100%",
    )
