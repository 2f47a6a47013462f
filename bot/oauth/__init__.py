"""Many workspaces: Bolt's OAuth flow with installations and OAuth states kept in Redis or in
the SQLite file, and the bot token of the workspace each Slack call is made for."""
