"""The review page: the General Manager's signed links, the inbox, a flag's history and its actions."""
