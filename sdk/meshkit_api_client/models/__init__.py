"""Contains all the data models used in inputs/outputs"""

from .accepted import Accepted
from .alert_out import AlertOut
from .alert_out_labels import AlertOutLabels
from .alert_out_metric import AlertOutMetric
from .alert_out_state import AlertOutState
from .alert_rule_in import AlertRuleIn
from .alert_rule_in_host_labels import AlertRuleInHostLabels
from .alert_rule_in_metric import AlertRuleInMetric
from .alert_rule_in_operator import AlertRuleInOperator
from .alert_rule_in_series_labels import AlertRuleInSeriesLabels
from .alert_rule_out import AlertRuleOut
from .alert_rule_out_host_labels import AlertRuleOutHostLabels
from .alert_rule_out_metric import AlertRuleOutMetric
from .alert_rule_out_operator import AlertRuleOutOperator
from .alert_rule_out_series_labels import AlertRuleOutSeriesLabels
from .alert_rule_patch import AlertRulePatch
from .alert_rule_patch_host_labels_type_0 import AlertRulePatchHostLabelsType0
from .alert_rule_patch_metric_type_0 import AlertRulePatchMetricType0
from .alert_rule_patch_operator_type_0 import AlertRulePatchOperatorType0
from .alert_rule_patch_series_labels_type_0 import AlertRulePatchSeriesLabelsType0
from .api_key_created import ApiKeyCreated
from .api_key_in import ApiKeyIn
from .api_key_out import ApiKeyOut
from .attachment import Attachment
from .audit_entry_out import AuditEntryOut
from .audit_entry_out_detail import AuditEntryOutDetail
from .audit_entry_out_outcome import AuditEntryOutOutcome
from .auth_assign_role_response_201 import AuthAssignRoleResponse201
from .auth_rotate_keys_response_201 import AuthRotateKeysResponse201
from .channel_in import ChannelIn
from .channel_in_kind import ChannelInKind
from .channel_out import ChannelOut
from .channel_out_kind import ChannelOutKind
from .channel_out_role_type_0 import ChannelOutRoleType0
from .channel_patch import ChannelPatch
from .channel_voice_out import ChannelVoiceOut
from .check_in import CheckIn
from .check_out import CheckOut
from .check_patch import CheckPatch
from .check_state import CheckState
from .check_state_state import CheckStateState
from .check_summary import CheckSummary
from .check_summary_state import CheckSummaryState
from .command_probe import CommandProbe
from .command_step import CommandStep
from .command_step_env import CommandStepEnv
from .config_change import ConfigChange
from .config_change_change import ConfigChangeChange
from .config_out import ConfigOut
from .config_out_env_type_0 import ConfigOutEnvType0
from .config_out_hosts_type_0 import ConfigOutHostsType0
from .config_out_kind import ConfigOutKind
from .config_out_secrets import ConfigOutSecrets
from .config_patch import ConfigPatch
from .config_patch_env_type_0 import ConfigPatchEnvType0
from .config_patch_secrets_type_0 import ConfigPatchSecretsType0
from .config_rollback_in import ConfigRollbackIn
from .config_version_out import ConfigVersionOut
from .config_version_out_env_type_0 import ConfigVersionOutEnvType0
from .config_version_out_secrets import ConfigVersionOutSecrets
from .connection_test import ConnectionTest
from .container_out import ContainerOut
from .container_out_labels import ContainerOutLabels
from .counts import Counts
from .delete_account_in import DeleteAccountIn
from .deployment_out import DeploymentOut
from .deployment_out_spec import DeploymentOutSpec
from .deployment_out_status import DeploymentOutStatus
from .deployment_rollback_in import DeploymentRollbackIn
from .deployment_spec import DeploymentSpec
from .deployment_spec_env import DeploymentSpecEnv
from .deployment_spec_labels import DeploymentSpecLabels
from .deployment_spec_pull import DeploymentSpecPull
from .deployment_spec_restart import DeploymentSpecRestart
from .deployment_version_out import DeploymentVersionOut
from .deployment_version_out_spec import DeploymentVersionOutSpec
from .deployment_version_out_status import DeploymentVersionOutStatus
from .diff_out import DiffOut
from .directory_step import DirectoryStep
from .directory_step_state import DirectoryStepState
from .disk import Disk
from .env_config_in import EnvConfigIn
from .env_config_in_env import EnvConfigInEnv
from .env_config_in_secrets import EnvConfigInSecrets
from .facts import Facts
from .file_config_in import FileConfigIn
from .file_config_in_secrets import FileConfigInSecrets
from .file_step import FileStep
from .file_step_state import FileStepState
from .health_check import HealthCheck
from .health_summary import HealthSummary
from .health_summary_counts import HealthSummaryCounts
from .host_in import HostIn
from .host_in_engine import HostInEngine
from .host_in_labels import HostInLabels
from .host_out import HostOut
from .host_out_engine import HostOutEngine
from .host_out_labels import HostOutLabels
from .host_patch import HostPatch
from .host_patch_engine_type_0 import HostPatchEngineType0
from .host_patch_labels_type_0 import HostPatchLabelsType0
from .host_run import HostRun
from .host_run_status import HostRunStatus
from .ice_server import IceServer
from .image_out import ImageOut
from .image_result import ImageResult
from .inline_recipe import InlineRecipe
from .job_in import JobIn
from .job_in_mode import JobInMode
from .job_log_out import JobLogOut
from .job_log_out_status import JobLogOutStatus
from .job_out import JobOut
from .job_out_mode import JobOutMode
from .job_out_status import JobOutStatus
from .join_ticket import JoinTicket
from .join_ticket_signaling_query import JoinTicketSignalingQuery
from .latest_out import LatestOut
from .live_out import LiveOut
from .log_entry import LogEntry
from .log_entry_stream_type_0 import LogEntryStreamType0
from .log_entry_type import LogEntryType
from .log_line import LogLine
from .login_in import LoginIn
from .mark_read import MarkRead
from .member_out import MemberOut
from .member_out_role import MemberOutRole
from .message_in import MessageIn
from .message_out import MessageOut
from .message_out_reactions import MessageOutReactions
from .message_patch import MessagePatch
from .metric_series_out import MetricSeriesOut
from .metric_series_out_metric import MetricSeriesOutMetric
from .move_in import MoveIn
from .notification_list import NotificationList
from .notification_out import NotificationOut
from .notification_out_kind import NotificationOutKind
from .package_step import PackageStep
from .package_step_state import PackageStepState
from .participant_out import ParticipantOut
from .participant_patch import ParticipantPatch
from .password_change_in import PasswordChangeIn
from .playback_out import PlaybackOut
from .point_out import PointOut
from .point_out_labels import PointOutLabels
from .point_out_name import PointOutName
from .port_spec import PortSpec
from .port_spec_protocol import PortSpecProtocol
from .probe_result import ProbeResult
from .problem import Problem
from .problem_errors_item import ProblemErrorsItem
from .problem_out import ProblemOut
from .problem_out_extensions import ProblemOutExtensions
from .profile_patch import ProfilePatch
from .published_port import PublishedPort
from .pull_in import PullIn
from .push_in import PushIn
from .push_out import PushOut
from .recipe_in import RecipeIn
from .recipe_out import RecipeOut
from .recording_out import RecordingOut
from .recording_out_state import RecordingOutState
from .refresh_in import RefreshIn
from .register_in import RegisterIn
from .replica_out import ReplicaOut
from .reset_confirm_in import ResetConfirmIn
from .reset_request_in import ResetRequestIn
from .resources import Resources
from .role_in import RoleIn
from .role_out import RoleOut
from .role_patch import RolePatch
from .run_out import RunOut
from .run_out_previous import RunOutPrevious
from .scale_in import ScaleIn
from .series_out import SeriesOut
from .series_out_labels import SeriesOutLabels
from .servers_host_metrics_metric import ServersHostMetricsMetric
from .servers_list_alerts_state_type_0 import ServersListAlertsStateType0
from .servers_list_configs_kind_type_0 import ServersListConfigsKindType0
from .servers_list_jobs_status_type_0 import ServersListJobsStatusType0
from .service_step import ServiceStep
from .service_step_state_type_0 import ServiceStepStateType0
from .session_out import SessionOut
from .spec_change import SpecChange
from .spec_change_op import SpecChangeOp
from .spec_update import SpecUpdate
from .step_result import StepResult
from .step_result_status import StepResultStatus
from .subject_summary import SubjectSummary
from .subject_summary_checks import SubjectSummaryChecks
from .subject_summary_state import SubjectSummaryState
from .summary import Summary
from .target_result import TargetResult
from .target_result_outcome import TargetResultOutcome
from .tcp_probe import TcpProbe
from .token_out import TokenOut
from .transition import Transition
from .transition_previous import TransitionPrevious
from .transition_state import TransitionState
from .unread_count import UnreadCount
from .user_out import UserOut
from .user_step import UserStep
from .user_step_state import UserStepState
from .voice_participant_ref import VoiceParticipantRef
from .voice_room_in import VoiceRoomIn
from .voice_room_out import VoiceRoomOut
from .voice_room_patch import VoiceRoomPatch
from .volume_spec import VolumeSpec

__all__ = (
    "Accepted",
    "AlertOut",
    "AlertOutLabels",
    "AlertOutMetric",
    "AlertOutState",
    "AlertRuleIn",
    "AlertRuleInHostLabels",
    "AlertRuleInMetric",
    "AlertRuleInOperator",
    "AlertRuleInSeriesLabels",
    "AlertRuleOut",
    "AlertRuleOutHostLabels",
    "AlertRuleOutMetric",
    "AlertRuleOutOperator",
    "AlertRuleOutSeriesLabels",
    "AlertRulePatch",
    "AlertRulePatchHostLabelsType0",
    "AlertRulePatchMetricType0",
    "AlertRulePatchOperatorType0",
    "AlertRulePatchSeriesLabelsType0",
    "ApiKeyCreated",
    "ApiKeyIn",
    "ApiKeyOut",
    "Attachment",
    "AuditEntryOut",
    "AuditEntryOutDetail",
    "AuditEntryOutOutcome",
    "AuthAssignRoleResponse201",
    "AuthRotateKeysResponse201",
    "ChannelIn",
    "ChannelInKind",
    "ChannelOut",
    "ChannelOutKind",
    "ChannelOutRoleType0",
    "ChannelPatch",
    "ChannelVoiceOut",
    "CheckIn",
    "CheckOut",
    "CheckPatch",
    "CheckState",
    "CheckStateState",
    "CheckSummary",
    "CheckSummaryState",
    "CommandProbe",
    "CommandStep",
    "CommandStepEnv",
    "ConfigChange",
    "ConfigChangeChange",
    "ConfigOut",
    "ConfigOutEnvType0",
    "ConfigOutHostsType0",
    "ConfigOutKind",
    "ConfigOutSecrets",
    "ConfigPatch",
    "ConfigPatchEnvType0",
    "ConfigPatchSecretsType0",
    "ConfigRollbackIn",
    "ConfigVersionOut",
    "ConfigVersionOutEnvType0",
    "ConfigVersionOutSecrets",
    "ConnectionTest",
    "ContainerOut",
    "ContainerOutLabels",
    "Counts",
    "DeleteAccountIn",
    "DeploymentOut",
    "DeploymentOutSpec",
    "DeploymentOutStatus",
    "DeploymentRollbackIn",
    "DeploymentSpec",
    "DeploymentSpecEnv",
    "DeploymentSpecLabels",
    "DeploymentSpecPull",
    "DeploymentSpecRestart",
    "DeploymentVersionOut",
    "DeploymentVersionOutSpec",
    "DeploymentVersionOutStatus",
    "DiffOut",
    "DirectoryStep",
    "DirectoryStepState",
    "Disk",
    "EnvConfigIn",
    "EnvConfigInEnv",
    "EnvConfigInSecrets",
    "Facts",
    "FileConfigIn",
    "FileConfigInSecrets",
    "FileStep",
    "FileStepState",
    "HealthCheck",
    "HealthSummary",
    "HealthSummaryCounts",
    "HostIn",
    "HostInEngine",
    "HostInLabels",
    "HostOut",
    "HostOutEngine",
    "HostOutLabels",
    "HostPatch",
    "HostPatchEngineType0",
    "HostPatchLabelsType0",
    "HostRun",
    "HostRunStatus",
    "IceServer",
    "ImageOut",
    "ImageResult",
    "InlineRecipe",
    "JobIn",
    "JobInMode",
    "JobLogOut",
    "JobLogOutStatus",
    "JobOut",
    "JobOutMode",
    "JobOutStatus",
    "JoinTicket",
    "JoinTicketSignalingQuery",
    "LatestOut",
    "LiveOut",
    "LogEntry",
    "LogEntryStreamType0",
    "LogEntryType",
    "LogLine",
    "LoginIn",
    "MarkRead",
    "MemberOut",
    "MemberOutRole",
    "MessageIn",
    "MessageOut",
    "MessageOutReactions",
    "MessagePatch",
    "MetricSeriesOut",
    "MetricSeriesOutMetric",
    "MoveIn",
    "NotificationList",
    "NotificationOut",
    "NotificationOutKind",
    "PackageStep",
    "PackageStepState",
    "ParticipantOut",
    "ParticipantPatch",
    "PasswordChangeIn",
    "PlaybackOut",
    "PointOut",
    "PointOutLabels",
    "PointOutName",
    "PortSpec",
    "PortSpecProtocol",
    "ProbeResult",
    "Problem",
    "ProblemErrorsItem",
    "ProblemOut",
    "ProblemOutExtensions",
    "ProfilePatch",
    "PublishedPort",
    "PullIn",
    "PushIn",
    "PushOut",
    "RecipeIn",
    "RecipeOut",
    "RecordingOut",
    "RecordingOutState",
    "RefreshIn",
    "RegisterIn",
    "ReplicaOut",
    "ResetConfirmIn",
    "ResetRequestIn",
    "Resources",
    "RoleIn",
    "RoleOut",
    "RolePatch",
    "RunOut",
    "RunOutPrevious",
    "ScaleIn",
    "SeriesOut",
    "SeriesOutLabels",
    "ServersHostMetricsMetric",
    "ServersListAlertsStateType0",
    "ServersListConfigsKindType0",
    "ServersListJobsStatusType0",
    "ServiceStep",
    "ServiceStepStateType0",
    "SessionOut",
    "SpecChange",
    "SpecChangeOp",
    "SpecUpdate",
    "StepResult",
    "StepResultStatus",
    "SubjectSummary",
    "SubjectSummaryChecks",
    "SubjectSummaryState",
    "Summary",
    "TargetResult",
    "TargetResultOutcome",
    "TcpProbe",
    "TokenOut",
    "Transition",
    "TransitionPrevious",
    "TransitionState",
    "UnreadCount",
    "UserOut",
    "UserStep",
    "UserStepState",
    "VoiceParticipantRef",
    "VoiceRoomIn",
    "VoiceRoomOut",
    "VoiceRoomPatch",
    "VolumeSpec",
)
