"""A prototyping page: the conversation with the operator's controls, and Python that listens."""

import reflex as rx

from cvi_app import kit


class Prototype(kit.ConversationState, rx.State):
    settings = kit.Settings(greeting="Ready when you are.", max_call_duration=300)
    speaking_turns: int = 0
    last_reply: str = ""

    async def on_speaking_change(self, speaking: bool) -> None:
        if speaking:
            self.speaking_turns += 1

    async def on_utterance(self, role: str, text: str) -> None:
        if role == "replica":
            self.last_reply = text

    async def on_end(self, reason: str) -> None:
        self.last_reply = f"(ended: {reason})"


def index() -> rx.Component:
    return rx.container(
        rx.heading("Prototype", as_="h1"),
        kit.conversation(Prototype, controls=True, context="The user is testing a prototype."),
        rx.text("Replica turns: ", Prototype.speaking_turns, id="turns"),
        rx.text("Last reply: ", Prototype.last_reply, id="last-reply"),
        padding="1rem",
    )


app = kit.install(rx.App())
app.add_page(index, title="Prototype")
