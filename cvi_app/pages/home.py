"""Home: start a conversation, and find this browser's live ones."""

import reflex as rx

from cvi_app import styles
from cvi_app.components.layout import page_layout
from cvi_app.state.home_state import BOUNDS, HomeState


def _choice(label: str, items, value, on_change) -> rx.Component:
    # The trigger is what the keyboard and screen readers reach: it carries the name.
    return rx.vstack(
        rx.text(label, size="2", weight="medium", aria_hidden="true"),
        rx.select.root(
            rx.select.trigger(aria_label=label),
            rx.select.content(
                rx.foreach(items, lambda item: rx.select.item(item["name"], value=item["id"]))
            ),
            value=value,
            on_change=on_change,
        ),
        spacing="1",
    )


def _seconds(label: str, field: str, value, on_change) -> rx.Component:
    low, high = BOUNDS[field]
    return rx.vstack(
        rx.text(label, size="1", aria_hidden="true"),
        rx.input(
            value=value,
            on_change=on_change,
            type="number",
            min=str(low),
            max=str(high),
            step="1",
            aria_label=label,
        ),
        rx.text(f"{low} to {high}", size="1", color_scheme="gray"),
        spacing="1",
    )


def _options() -> rx.Component:
    return rx.hstack(
        _seconds(
            "Max call duration (s)",
            "max_call_duration",
            HomeState.max_call_duration,
            HomeState.set_max_call_duration,
        ),
        _seconds(
            "Ends after everyone left (s)",
            "participant_left_timeout",
            HomeState.participant_left_timeout,
            HomeState.set_participant_left_timeout,
        ),
        _seconds(
            "Ends if nobody joins (s)",
            "participant_absent_timeout",
            HomeState.participant_absent_timeout,
            HomeState.set_participant_absent_timeout,
        ),
        spacing="4",
        wrap="wrap",
    )


def _start_form() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _choice(
                "Persona", HomeState.persona_choices, HomeState.persona_id, HomeState.set_persona_id
            ),
            _choice(
                "Replica", HomeState.replica_choices, HomeState.replica_id, HomeState.set_replica_id
            ),
            spacing="4",
            wrap="wrap",
        ),
        rx.input(
            value=HomeState.name,
            on_change=HomeState.set_name,
            placeholder="Conversation name",
            aria_label="Conversation name",
            width="100%",
        ),
        rx.text_area(
            value=HomeState.context,
            on_change=HomeState.set_context,
            placeholder="Conversational context (optional)",
            aria_label="Context",
            width="100%",
        ),
        rx.input(
            value=HomeState.greeting,
            on_change=HomeState.set_greeting,
            placeholder="Custom greeting (optional)",
            aria_label="Greeting",
            width="100%",
        ),
        _options(),
        rx.cond(
            HomeState.catalog_error != "",
            rx.callout(HomeState.catalog_error, color_scheme="red", role="alert"),
        ),
        rx.button(
            "Start conversation", on_click=HomeState.start, loading=HomeState.starting, size="3"
        ),
        style=styles.card_style,
        width="100%",
        spacing="3",
    )


def _live_list() -> rx.Component:
    return rx.cond(
        HomeState.live.length() > 0,
        rx.vstack(
            rx.heading("Your live conversations", size="4", as_="h2"),
            rx.foreach(
                HomeState.live,
                lambda c: rx.text(
                    rx.link(c["title"], href="/room/" + c["id"]),
                    " ",
                    rx.text.span(c["who"], color_scheme="gray"),
                ),
            ),
        ),
    )


@page_layout
def home() -> rx.Component:
    """The landing page: start a conversation."""
    return rx.vstack(
        rx.heading("Live conversations with a Tavus Replica", size="8", as_="h1"),
        rx.text(
            "Start a conversation, talk to the Replica in the call view, and drive it in real "
            "time: respond, echo, interrupt, change its context, answer its tool calls.",
            color_scheme="gray",
        ),
        _start_form(),
        _live_list(),
        spacing="4",
        width="100%",
    )
