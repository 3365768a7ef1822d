import socket

import pytest

from omni_demo import urls


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.wav",
        "http://localhost/a.wav",
        "http://[::1]/a.wav",
        "http://10.1.2.3/a.wav",
        "http://192.168.1.10/a.wav",
        "http://172.16.0.1/a.wav",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/a.wav",
        "http://100.64.0.1/a.wav",
        "http://224.0.0.1/a.wav",
        "http://[::ffff:127.0.0.1]/a.wav",
        "http://[fe80::1]/a.wav",
        "http://2130706433/a.wav",  # 127.0.0.1 written as one number
        "file:///etc/passwd",
        "ftp://93.184.216.34/a.wav",
        "gopher://93.184.216.34/",
        "javascript:alert(1)",
        "http://user@127.0.0.1/",
        "http://user:pw@93.184.216.34/",
        "http://93.184.216.34\\@127.0.0.1/",
        "http:///a.wav",
        "http://",
        "",
        "http://93.184.216.34:99999/",
    ],
)
def test_is_public_url_refuses(url: str) -> None:
    assert urls.is_public_url(url) is False


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/a.wav",
        "https://93.184.216.34:8443/media/clip.mp4?x=1",
        "HTTP://93.184.216.34/",
        "http://[2606:2800:220:1:248:1893:25c8:1946]/a.png",
    ],
)
def test_is_public_url_accepts_public_literal_ips(url: str) -> None:
    assert urls.is_public_url(url) is True


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "unknown host")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_is_public_url_refuses_if_any_resolved_address_is_private(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(
        monkeypatch, {"media.example": ["93.184.216.34"], "mixed.example": ["93.184.216.34", "10.0.0.5"]}
    )
    assert urls.is_public_url("https://media.example/a.wav") is True
    assert urls.is_public_url("https://mixed.example/a.wav") is False
    assert urls.is_public_url("https://unknown.example/a.wav") is False
