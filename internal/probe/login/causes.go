package login

// CallbackCause is the cause, in a user's words, of an error code
// BetterAuth's OAuth callback redirects with (the same words the social
// flow uses); ok is false for a code it does not know.
func CallbackCause(code string) (cause string, ok bool) {
	if code == "state_mismatch" {
		return "the callback's state did not match the sign-in's: the state cookie did not come back with the callback (not stored, withheld, or set for another host), or the instance that handled it has another secret or database.", true
	}
	cause, ok = callbackCauses[code]
	return cause, ok
}
