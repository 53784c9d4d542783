"""The figures people read: an estate's day (the 18:30 digest, the 晨会) and its month
(回访用户月统计表, 排列图), computed once here for the chat, the clock and the CLI alike."""
