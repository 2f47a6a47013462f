"""The bad-input catalogue: /clip texts that must be refused with a message naming the problem.

Each row: (id, text, words the message must contain). Shared by the pure parser tests and the
end-to-end test that proves nothing is stored, posted or sent to a provider.
"""

BAD_CLIP_TEXTS: list[tuple[str, str, tuple[str, ...]]] = [
    ("ftp_url", "ftp://files.example.com/talk.mp4", ("http", "ftp")),
    ("javascript_url", "javascript:alert(1)", ("http",)),
    ("data_url", "data:video/mp4;base64,AAAA", ("http",)),
    ("file_url", "file:///etc/passwd", ("http",)),
    ("no_url_only_options", "lang=en length=1", ("link",)),
    ("two_urls", "https://a.example.com/a.mp4 https://b.example.com/b.mp4", ("one video",)),
    ("stray_word", "https://a.example.com/a.mp4 please", ("one video",)),
    ("unknown_language", "https://a.example.com/a.mp4 lang=xx", ("xx", "en")),
    ("length_7", "https://a.example.com/a.mp4 length=7", ("7", "auto")),
    ("length_word", "https://a.example.com/a.mp4 length=long", ("long", "auto")),
    ("auto_with_others", "https://a.example.com/a.mp4 length=0,2", ("auto", "combined")),
    ("unknown_key", "https://a.example.com/a.mp4 color=red", ("color", "lang=")),
    ("duplicate_key", "https://a.example.com/a.mp4 lang=en lang=fr", ("lang", "twice")),
    ("bad_switch", "https://a.example.com/a.mp4 subtitles=maybe", ("subtitles=on",)),
    ("five_thousand_chars", "https://a.example.com/a.mp4 " + "x" * 5000, ("5,0", "2,000")),
    ("control_chars", "https://a.example.com/a.mp4\x07 lang=en", ("control",)),
    ("zero_width_char", "https://a.example.com/a\u200b.mp4", ("control",)),
    ("not_a_video_file", "https://a.example.com/report.pdf", (".mp4",)),
    ("no_extension", "https://a.example.com/watch", (".mp4",)),
    ("loopback_host", "http://127.0.0.1/a.mp4", ("private",)),
    ("private_host", "http://10.1.2.3/a.mp4", ("private",)),
    ("localhost", "http://localhost:8080/a.mp4", ("private",)),
    ("credentials_in_url", "https://bob:hunter2@a.example.com/a.mp4", ("password",)),
    ("unclosed_quote", 'https://a.example.com/a.mp4 name="Q3 review', ("quote",)),
    ("long_name", "https://a.example.com/a.mp4 name=" + "n" * 150, ("100",)),
    ("no_host", "https:///a.mp4", ("host",)),
    ("unclosed_ipv6_host", "http://[/a.mp4", ("valid web address",)),
    ("bad_ipv6_host", "https://[zz]/a.mp4", ("valid web address",)),
    ("port_out_of_range", "https://a.example.com:99999/a.mp4", ("valid web address",)),
]
