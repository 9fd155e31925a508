"""``contactd try call|email|chat``: each channel tried against a running service, as its
provider or a customer would, with no provider account."""
