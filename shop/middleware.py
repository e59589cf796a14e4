from django.conf import settings
from django.utils import translation


class ChineseFirstMiddleware:
    """Chinese unless the user picked another language (the language cookie, set by the
    language chooser): the shop's PCs often run browsers that ask for English. Sits after
    Django's LocaleMiddleware, which the admin's language chooser looks for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _ in settings.LANGUAGES}
        translation.activate(chosen if chosen in supported else settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
