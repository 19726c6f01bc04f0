"""A conftest that builds ``webdriver.Chrome()`` itself and has its own ``--app-port`` option."""
