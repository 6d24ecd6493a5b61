"""The simulated replica's rule-based answers: deterministic, context-aware, tool-aware."""

from __future__ import annotations

from cvi_app.sandbox.responder import LONG_STORY, Responder, ToolRequest, ToolSpec

WEATHER = ToolSpec.from_openai(
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
)
ORDER = ToolSpec("lookup_order", {"type": "object", "properties": {"order_id": {"type": "string"}}})


def support() -> Responder:
    assert WEATHER is not None
    return Responder(persona_name="Support Agent", tools=[WEATHER, ORDER])


def test_same_question_gets_the_same_answer() -> None:
    assert Responder().reply("How are you?") == Responder().reply("How are you?")


def test_greeting_uses_the_custom_greeting_else_introduces_the_persona() -> None:
    responder = Responder(persona_name="Anna")
    assert responder.greeting("Welcome to Acme!") == "Welcome to Acme!"
    assert "Anna" in responder.greeting(None)
    assert Responder(greeting="Hey you.").greeting("  ") == "Hey you."


def test_what_do_you_know_reads_back_the_current_context() -> None:
    responder = Responder(context="The user is Sam.")
    assert "Sam" in responder.reply("What do you know?").text
    responder.overwrite_context("The user is Kim.")
    answer = responder.reply("what do you know").text
    assert "Kim" in answer and "Sam" not in answer
    responder.append_context("Kim likes tea.")
    answer = responder.reply("What do you know?").text
    assert "Kim" in answer and "tea" in answer
    assert "anything" in Responder().reply("What do you know?").text


def test_questions_are_answered_from_the_matching_context_sentence() -> None:
    responder = Responder(context="The office opens at 9am. Parking is free on weekends.")
    assert "Parking is free" in responder.reply("Is parking free?").text
    assert "9am" in responder.reply("When does the office open?").text


def test_weather_and_order_requests_become_tool_calls_of_the_persona() -> None:
    responder = support()
    assert responder.reply("What's the weather in Paris?").tool == ToolRequest(
        "get_weather", {"city": "Paris"}
    )
    assert responder.reply("Where is order A-1001?").tool == ToolRequest(
        "lookup_order", {"order_id": "A-1001"}
    )
    assert responder.reply("check order 1234 please").tool == ToolRequest(
        "lookup_order", {"order_id": "1234"}
    )


def test_no_tool_call_for_tools_the_persona_does_not_have() -> None:
    reply = Responder().reply("What's the weather in Paris?")
    assert reply.tool is None and reply.text


def test_a_tool_named_in_the_request_is_called_without_arguments() -> None:
    responder = Responder(tools=[ToolSpec("get_time")])
    assert responder.reply("please use get time").tool == ToolRequest("get_time", {})


def test_tool_results_are_read_out() -> None:
    request = ToolRequest("get_weather", {"city": "Paris"})
    said = Responder().after_tool(request, '{"temp_c": 18, "sky": "clear"}')
    assert "temp_c: 18" in said and "sky: clear" in said
    assert "failed" in Responder().after_tool(request, "timeout", ok=False)
    assert "could not" in Responder().tool_timed_out(request)


def test_long_story_on_request() -> None:
    assert Responder().reply("Tell me a long story").text == LONG_STORY
    assert len(LONG_STORY.split()) > 100
