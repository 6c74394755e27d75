"""`quota-sentinel switch`: moves OpenCode's models to healthy fallbacks and back.

Client side only (docs/architecture.md §9): it talks to the quota-sentinel API over HTTP and
edits files on disk; it never imports the store, the services or Redis. Modules: `jsonc`
(format-preserving edit), `plan` (the pure decision), `opencode` (the config's targets and
fallbacks), `files` and `state` (atomic writes, remembered originals), `apply` (one cycle),
`health`, `server`, `credentials` and `session` (the API side), `report` and `command` (the
CLI). The API client itself is `quota_sentinel.client`, shared with the rest of the CLI.
"""
