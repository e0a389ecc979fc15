"""Monitoring: host metrics over SSH and container stats from the engines, sampled on a
schedule into Redis with bounded retention, served as time series over REST and as
gauges on ``/metrics``, with threshold alert rules (see :mod:`.core`)."""
