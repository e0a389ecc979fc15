from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.ice_server import IceServer
    from ..models.join_ticket_signaling_query import JoinTicketSignalingQuery
    from ..models.participant_out import ParticipantOut
    from ..models.voice_room_out import VoiceRoomOut


T = TypeVar("T", bound="JoinTicket")


@_attrs_define
class JoinTicket:
    """What a client needs to join a room: where to signal, how to reach the media.

    Asking for a ticket reserves no place: the client appears in the room when it joins
    over signaling, which checks again that there is room.

        Attributes:
            ice_servers (list[IceServer]): STUN/TURN servers for the peer connection (empty: host candidates only).
            participants (list[ParticipantOut]): Who is in the room now.
            room (VoiceRoomOut): A voice room, with how many are in it now.
            ice_servers_expire_at (datetime.datetime | None | Unset): When the TURN credentials in `ice_servers` stop
                working (null: none given).
            signaling_path (str | Unset): The Socket.IO path to connect to (on the gateway), with the access token. Default:
                '/voice/socket.io'.
            signaling_query (JoinTicketSignalingQuery | Unset): Query parameters to connect with (`room`): the gateway sends
                the connection to the voice instance that hosts the room.
    """

    ice_servers: list[IceServer]
    participants: list[ParticipantOut]
    room: VoiceRoomOut
    ice_servers_expire_at: datetime.datetime | None | Unset = UNSET
    signaling_path: str | Unset = "/voice/socket.io"
    signaling_query: JoinTicketSignalingQuery | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ice_servers = []
        for ice_servers_item_data in self.ice_servers:
            ice_servers_item = ice_servers_item_data.to_dict()
            ice_servers.append(ice_servers_item)

        participants = []
        for participants_item_data in self.participants:
            participants_item = participants_item_data.to_dict()
            participants.append(participants_item)

        room = self.room.to_dict()

        ice_servers_expire_at: None | str | Unset
        if isinstance(self.ice_servers_expire_at, Unset):
            ice_servers_expire_at = UNSET
        elif isinstance(self.ice_servers_expire_at, datetime.datetime):
            ice_servers_expire_at = self.ice_servers_expire_at.isoformat()
        else:
            ice_servers_expire_at = self.ice_servers_expire_at

        signaling_path = self.signaling_path

        signaling_query: dict[str, Any] | Unset = UNSET
        if not isinstance(self.signaling_query, Unset):
            signaling_query = self.signaling_query.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ice_servers": ice_servers,
                "participants": participants,
                "room": room,
            }
        )
        if ice_servers_expire_at is not UNSET:
            field_dict["ice_servers_expire_at"] = ice_servers_expire_at
        if signaling_path is not UNSET:
            field_dict["signaling_path"] = signaling_path
        if signaling_query is not UNSET:
            field_dict["signaling_query"] = signaling_query

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.ice_server import IceServer
        from ..models.join_ticket_signaling_query import JoinTicketSignalingQuery
        from ..models.participant_out import ParticipantOut
        from ..models.voice_room_out import VoiceRoomOut

        d = dict(src_dict)
        ice_servers = []
        _ice_servers = d.pop("ice_servers")
        for ice_servers_item_data in _ice_servers:
            ice_servers_item = IceServer.from_dict(ice_servers_item_data)

            ice_servers.append(ice_servers_item)

        participants = []
        _participants = d.pop("participants")
        for participants_item_data in _participants:
            participants_item = ParticipantOut.from_dict(participants_item_data)

            participants.append(participants_item)

        room = VoiceRoomOut.from_dict(d.pop("room"))

        def _parse_ice_servers_expire_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ice_servers_expire_at_type_0 = datetime.datetime.fromisoformat(data)

                return ice_servers_expire_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        ice_servers_expire_at = _parse_ice_servers_expire_at(d.pop("ice_servers_expire_at", UNSET))

        signaling_path = d.pop("signaling_path", UNSET)

        _signaling_query = d.pop("signaling_query", UNSET)
        signaling_query: JoinTicketSignalingQuery | Unset
        if isinstance(_signaling_query, Unset):
            signaling_query = UNSET
        else:
            signaling_query = JoinTicketSignalingQuery.from_dict(_signaling_query)

        join_ticket = cls(
            ice_servers=ice_servers,
            participants=participants,
            room=room,
            ice_servers_expire_at=ice_servers_expire_at,
            signaling_path=signaling_path,
            signaling_query=signaling_query,
        )

        join_ticket.additional_properties = d
        return join_ticket

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
