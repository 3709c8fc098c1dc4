"""The offline demo: the sandbox, the bot, a pre-built district and a page to chat as anyone."""
