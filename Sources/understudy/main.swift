import UnderstudyCLI

await UnderstudyCommand.start()
