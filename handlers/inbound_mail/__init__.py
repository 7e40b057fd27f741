"""Mail that comes back: calendar apps' answers to invitations (iMIP REPLY) and bounces."""
