"""The one kind of error a view expects from a service."""


class ServiceError(Exception):
    """A change or a read that a service could not make. `str(error)` is for the person at
    the screen; each app's services raise their own subclass (MembershipError,
    ProjectError, IntegrationError), and views catch that, never a client's exceptions."""
