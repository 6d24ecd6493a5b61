from cvi_app.state.app_state import AppState

__all__ = ["AppState"]
