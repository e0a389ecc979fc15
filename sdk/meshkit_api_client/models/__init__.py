"""Contains all the data models used in inputs/outputs"""

from .accepted import Accepted
from .api_key_created import ApiKeyCreated
from .api_key_in import ApiKeyIn
from .api_key_out import ApiKeyOut
from .attachment import Attachment
from .auth_assign_role_response_201 import AuthAssignRoleResponse201
from .auth_rotate_keys_response_201 import AuthRotateKeysResponse201
from .channel_in import ChannelIn
from .channel_in_kind import ChannelInKind
from .channel_out import ChannelOut
from .channel_out_kind import ChannelOutKind
from .channel_out_role_type_0 import ChannelOutRoleType0
from .channel_patch import ChannelPatch
from .channel_voice_out import ChannelVoiceOut
from .delete_account_in import DeleteAccountIn
from .ice_server import IceServer
from .join_ticket import JoinTicket
from .join_ticket_signaling_query import JoinTicketSignalingQuery
from .login_in import LoginIn
from .mark_read import MarkRead
from .member_out import MemberOut
from .member_out_role import MemberOutRole
from .message_in import MessageIn
from .message_out import MessageOut
from .message_out_reactions import MessageOutReactions
from .message_patch import MessagePatch
from .move_in import MoveIn
from .notification_list import NotificationList
from .notification_out import NotificationOut
from .notification_out_kind import NotificationOutKind
from .participant_out import ParticipantOut
from .participant_patch import ParticipantPatch
from .password_change_in import PasswordChangeIn
from .playback_out import PlaybackOut
from .problem import Problem
from .problem_errors_item import ProblemErrorsItem
from .profile_patch import ProfilePatch
from .recording_out import RecordingOut
from .recording_out_state import RecordingOutState
from .refresh_in import RefreshIn
from .register_in import RegisterIn
from .reset_confirm_in import ResetConfirmIn
from .reset_request_in import ResetRequestIn
from .role_in import RoleIn
from .role_out import RoleOut
from .role_patch import RolePatch
from .session_out import SessionOut
from .token_out import TokenOut
from .unread_count import UnreadCount
from .user_out import UserOut
from .voice_participant_ref import VoiceParticipantRef
from .voice_room_in import VoiceRoomIn
from .voice_room_out import VoiceRoomOut
from .voice_room_patch import VoiceRoomPatch

__all__ = (
    "Accepted",
    "ApiKeyCreated",
    "ApiKeyIn",
    "ApiKeyOut",
    "Attachment",
    "AuthAssignRoleResponse201",
    "AuthRotateKeysResponse201",
    "ChannelIn",
    "ChannelInKind",
    "ChannelOut",
    "ChannelOutKind",
    "ChannelOutRoleType0",
    "ChannelPatch",
    "ChannelVoiceOut",
    "DeleteAccountIn",
    "IceServer",
    "JoinTicket",
    "JoinTicketSignalingQuery",
    "LoginIn",
    "MarkRead",
    "MemberOut",
    "MemberOutRole",
    "MessageIn",
    "MessageOut",
    "MessageOutReactions",
    "MessagePatch",
    "MoveIn",
    "NotificationList",
    "NotificationOut",
    "NotificationOutKind",
    "ParticipantOut",
    "ParticipantPatch",
    "PasswordChangeIn",
    "PlaybackOut",
    "Problem",
    "ProblemErrorsItem",
    "ProfilePatch",
    "RecordingOut",
    "RecordingOutState",
    "RefreshIn",
    "RegisterIn",
    "ResetConfirmIn",
    "ResetRequestIn",
    "RoleIn",
    "RoleOut",
    "RolePatch",
    "SessionOut",
    "TokenOut",
    "UnreadCount",
    "UserOut",
    "VoiceParticipantRef",
    "VoiceRoomIn",
    "VoiceRoomOut",
    "VoiceRoomPatch",
)
