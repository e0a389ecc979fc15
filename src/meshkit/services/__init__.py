"""The five built-in services, each a plugin registered through the ``meshkit`` entry point
group exactly as a third-party plugin would be. They never import each other."""
