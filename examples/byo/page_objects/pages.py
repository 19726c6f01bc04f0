"""Page objects for the shop: each holds the driver and knows one page's elements."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

TIMEOUT = 20


class Page:
    def __init__(self, driver: WebDriver, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url
        self.wait = WebDriverWait(driver, TIMEOUT)

    @property
    def heading(self) -> str:
        return self.driver.find_element(By.ID, "page-title").text


class HomePage(Page):
    def open(self) -> HomePage:
        self.driver.get(self.base_url + "/")
        return self

    def shop_now(self) -> ProductsPage:
        self.driver.find_element(By.ID, "shop-now").click()
        return ProductsPage(self.driver, self.base_url).loaded()

    def nav_labels(self) -> list[str]:
        return [link.text for link in self.driver.find_elements(By.CSS_SELECTOR, ".site-nav .nav-link")]


class ProductsPage(Page):
    def loaded(self) -> ProductsPage:
        self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#product-grid[data-state=ready]")))
        return self

    def names(self) -> list[str]:
        return [el.text for el in self.driver.find_elements(By.CSS_SELECTOR, "#product-grid .product-card .name")]

    def open_product(self, name: str) -> ProductPage:
        self.driver.find_element(By.LINK_TEXT, name).click()
        return ProductPage(self.driver, self.base_url).loaded()


class ProductPage(Page):
    def loaded(self) -> ProductPage:
        self.wait.until(EC.visibility_of_element_located((By.ID, "add-to-cart")))
        return self

    @property
    def price(self) -> str:
        return self.driver.find_element(By.ID, "product-price").text

    def add_to_cart(self) -> ProductPage:
        self.driver.find_element(By.ID, "add-to-cart").click()
        return self

    def cart_count(self, expected: str) -> str:
        self.wait.until(EC.text_to_be_present_in_element((By.ID, "cart-count"), expected))
        return self.driver.find_element(By.ID, "cart-count").text
