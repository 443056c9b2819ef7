"""The running service: the loop and its jobs (dispatch, inbox, reach, followers, broadcasts,
preparation before the slot), the dispatcher and what it decides, alerts."""
