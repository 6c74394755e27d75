"""Agents that act on the sentinel by themselves: Claude Code hooks and an OpenCode plugin.

Client side only, like the switcher: HTTP to the API through `quota_sentinel.client` and files
on disk. `claude_settings` and `opencode_files` install and remove; `link` keeps an instance
registered and answers from a cache when the sentinel is slow or down; `claude_hook` turns that
answer into what Claude Code expects of a hook.
"""
