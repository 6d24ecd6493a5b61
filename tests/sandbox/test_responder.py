"""The simulated replica's rule-based answers: deterministic, context-aware, tool-aware."""

from __future__ import annotations

from cvi_app.sandbox.responder import (
    LONG_STORY,
    SANDBOX_SIMULATES,
    Responder,
    ToolRequest,
    ToolSpec,
)

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


def test_what_is_my_name_is_answered_from_the_context() -> None:
    assert Responder(context="The user's name is Sam.").reply("What is my name?").text == (
        "Your name is Sam."
    )
    told = Responder(context="You are helping a shopper.")
    told.overwrite_context("The user is called Kim. Kim is shopping for shoes.")
    assert told.reply("Do you know my name?").text == "Your name is Kim."
    told.append_context("Name: Lee")
    assert told.reply("who am I?").text == "Your name is Lee."
    unknown = Responder(context="The user is happy.").reply("What's my name?").text
    assert "don't know your name" in unknown


def test_the_user_telling_their_name_is_remembered_and_the_newest_name_wins() -> None:
    responder = Responder(context="The user's name is Sam.")
    assert responder.reply("My name is Bob").text.startswith("Nice to meet you, Bob.")
    assert responder.reply("What is my name?").text == "Your name is Bob."
    assert "Bob" in responder.reply("Hello!").text
    responder.overwrite_context("The user's name is Ana.")
    assert responder.reply("What is my name?").text == "Your name is Ana."
    responder.reply("Call me alex")
    assert responder.reply("What is my name?").text == "Your name is Alex."


def test_facts_the_user_stated_answer_later_questions() -> None:
    responder = Responder()
    responder.reply("I like green tea.")
    assert responder.reply("What do I like?").text == "You told me: you like green tea."
    assert responder.reply("Remember that my car is red").text == (
        "Got it. I'll remember that your car is red."
    )
    assert responder.reply("What colour is my car?").text == "You told me: your car is red."
    knows = responder.reply("What do you know?").text
    assert "you like green tea" in knows and "your car is red" in knows


def test_anything_else_says_what_it_heard_and_what_it_knows() -> None:
    answer = Responder(context="Orders ship on Mondays.").reply("How is it going").text
    assert answer == 'You said: "How is it going". What I know: Orders ship on Mondays.'
    bare = Responder().reply("Banana.").text
    assert bare == 'You said: "Banana". I haven\'t been told anything else yet.'


def test_what_it_reads_out_is_bounded() -> None:
    responder = Responder(context="word " * 50_000)
    for _ in range(200):
        responder.append_context("more " * 1000)
    assert len(responder.context) <= 128_000
    assert len(responder.reply("What do you know?").text) < 400


def test_the_sandbox_says_plainly_what_it_simulates_and_what_not() -> None:
    sentences = [s for s in SANDBOX_SIMULATES.split(". ") if s]
    assert 2 <= len(sentences) <= 3
    assert "simulated replica" in SANDBOX_SIMULATES
    assert "does not" in SANDBOX_SIMULATES and "TAVUS_API_KEY" in SANDBOX_SIMULATES
    assert len(SANDBOX_SIMULATES) < 500
