from enum import StrEnum


class AlertRulePatchMetricType0(StrEnum):
    CONTAINER_CPU_PERCENT = "container_cpu_percent"
    CONTAINER_MEMORY_LIMIT_BYTES = "container_memory_limit_bytes"
    CONTAINER_MEMORY_USED_BYTES = "container_memory_used_bytes"
    CONTAINER_NETWORK_RECEIVE_BYTES = "container_network_receive_bytes"
    CONTAINER_NETWORK_TRANSMIT_BYTES = "container_network_transmit_bytes"
    CPU_CORES = "cpu_cores"
    CPU_PERCENT = "cpu_percent"
    DISK_TOTAL_BYTES = "disk_total_bytes"
    DISK_USED_BYTES = "disk_used_bytes"
    DISK_USED_PERCENT = "disk_used_percent"
    ENGINE_UP = "engine_up"
    LOAD1 = "load1"
    LOAD15 = "load15"
    LOAD5 = "load5"
    MEMORY_AVAILABLE_BYTES = "memory_available_bytes"
    MEMORY_TOTAL_BYTES = "memory_total_bytes"
    MEMORY_USED_BYTES = "memory_used_bytes"
    MEMORY_USED_PERCENT = "memory_used_percent"
    NETWORK_RECEIVE_BYTES_PER_SECOND = "network_receive_bytes_per_second"
    NETWORK_TRANSMIT_BYTES_PER_SECOND = "network_transmit_bytes_per_second"
    SAMPLE_SECONDS = "sample_seconds"
    SWAP_TOTAL_BYTES = "swap_total_bytes"
    SWAP_USED_BYTES = "swap_used_bytes"
    UP = "up"
    UPTIME_SECONDS = "uptime_seconds"

    def __str__(self) -> str:
        return str(self.value)
