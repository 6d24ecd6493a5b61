import reflex as rx


def index() -> rx.Component:
    return rx.heading("CVI Studio")


app = rx.App()
app.add_page(index)
