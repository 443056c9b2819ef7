"""The command line (`loa …`): operations, accounts, connecting channels, `loa init`."""
