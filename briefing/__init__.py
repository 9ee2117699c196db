"""月度简报: the monthly briefing for leadership, written from the metric engine.

``content`` gathers one plain structure; ``narrative`` writes the Chinese sentences;
``charts`` draws the figures; ``pdf`` and ``slides`` write the files; ``cli`` runs it.
"""
