"""A product page with a "Talk to support" panel whose replica reads this shop's own orders."""

import contextlib

import reflex as rx
import sqlmodel

from cvi_app import kit

SUPPORT_AGENT = "pb2f1d4e6a02"  # the sandbox's Support Agent: it asks for lookup_order(order_id)


class ShopOrder(rx.Model, table=True):
    number: str
    status: str


def register(tools: kit.ToolRegistry) -> None:
    @tools.tool
    async def lookup_order(order_id: str) -> dict:
        """Look up the status of a customer's order by its id.

        Args:
            order_id: The order number, e.g. A-1001.
        """
        with rx.session() as session:
            query = sqlmodel.select(ShopOrder).where(ShopOrder.number == order_id.upper())
            order = session.exec(query).first()
        return {"order_id": order_id, "status": order.status if order else "not found"}


class Support(kit.ConversationState, rx.State):
    heard: int = 0

    async def on_utterance(self, role: str, text: str) -> None:
        if role == "user":
            self.heard += 1


def index() -> rx.Component:
    return rx.container(
        rx.heading("Trail runner 2", as_="h1"),
        rx.text("Light, grippy and ready for mud. 129 €."),
        rx.card(
            rx.heading("Talk to support", as_="h2", size="4"),
            kit.conversation(Support, persona=SUPPORT_AGENT, start_label="Talk to support"),
            rx.text("Questions heard: ", Support.heard, size="1"),
            margin_top="1rem",
        ),
        padding="1rem",
    )


@contextlib.asynccontextmanager
async def add_orders():  # the shop's own table, with one order
    with rx.session() as session:
        ShopOrder.__table__.create(session.get_bind(), checkfirst=True)
        if session.exec(sqlmodel.select(ShopOrder)).first() is None:
            session.add(ShopOrder(number="A-1001", status="shipped yesterday"))
            session.commit()
    yield


app = kit.install(rx.App(), tools=register)
app.register_lifespan_task(add_orders)
app.add_page(index, title="Trail runner 2")
