package parley

// DeleteMessageAttributes returns the Attributes of an aws:DELETE_MESSAGE
// EVENT: the deleted message's Id under MessageID (the key the JS SDK reads)
// and MessageId (the documented one), and Reason unless it is empty. Both
// the messaging DELETE_MESSAGE action and the control-plane DeleteMessage
// build the event with it.
func DeleteMessageAttributes(messageID, reason string) map[string]string {
	attrs := map[string]string{"MessageID": messageID, "MessageId": messageID}
	if reason != "" {
		attrs["Reason"] = reason
	}
	return attrs
}

// DisconnectUserAttributes returns the Attributes of an aws:DISCONNECT_USER
// EVENT: UserId, and Reason unless it is empty (an absent reason is left
// out, never sent as ""). Both the messaging DISCONNECT_USER action and the
// control-plane DisconnectUser build the event with it.
func DisconnectUserAttributes(userID, reason string) map[string]string {
	attrs := map[string]string{"UserId": userID}
	if reason != "" {
		attrs["Reason"] = reason
	}
	return attrs
}
