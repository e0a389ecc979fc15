"""Contracts services share besides the generated gRPC code: the events they publish.

A service imports another's event classes from here, never from the other service's
package (services never import each other). Each event type is versioned in its name.
"""
