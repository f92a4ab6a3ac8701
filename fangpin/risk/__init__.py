"""Early warning: a risk score per registered household and month (advice, never a decision)."""
