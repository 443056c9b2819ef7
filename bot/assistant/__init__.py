"""The citizens' assistant: answers from the department's own published work, with its source,
or hands the question to a person (issue 23). See :mod:`bot.assistant.answering`."""
