"""How things look to a person: transcript lines, table rows and sentences.

One place knows what a transcript line, an event-log row, a tool-call row or an error sentence
looks like; the room, the history pages and the exports all use it, so a change of wording or
of a row's fields is made once. Nothing here changes a conversation.
"""
