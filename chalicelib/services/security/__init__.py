"""Anti-automation shared by every use case: challenges (captcha, codes) and throttling."""
