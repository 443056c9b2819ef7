"""The Telegram admin chat: approval cards, commands and file submission.

``bot.telegram.app.build_application`` wires every handler; ``run_bot`` runs it on the service's
loop.
"""
