"""Make the Python tools the persona's tools: `python -m cvi_app.tools_sync [--persona ID] [--apply]`.

The app's tools (`cvi_app.live.tools.app_tools`: the demo tools and the host app's, from
`CVI_TOOLS_MODULE`) are described as OpenAI-style functions; each persona's `layers.llm.tools`
is made to hold them (its other tools kept) with a JSON Patch, shown before it is sent.
"""

from cvi_app.tools_sync.plan import PersonaPlan, ToolChange, layers_document, plan_persona
from cvi_app.tools_sync.sync import EXIT_FAILED, EXIT_OK, Target, sync_tools

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "PersonaPlan",
    "Target",
    "ToolChange",
    "layers_document",
    "plan_persona",
    "sync_tools",
]
