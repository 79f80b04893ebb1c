"""Made-up but well-formed sample data: credit codes, identity numbers, and license field values.

Used by the demo, the benchmarks and the tests. Check characters are computed with python-stdnum;
nothing here describes a real company or person.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
import zlib

from stdnum.cn import ric, uscc

from registry.issuer.department import IssueRequest

__all__ = ["SampleFactory", "make_ric", "make_uscc", "png_declaring"]

_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志明晓东海燕慧宇浩然子涵梓萱一诺欣怡"
_WORDS = "星辰华夏恒泰瑞丰鼎盛宏远博雅锦程汇通嘉禾天成信达鸿运金桥新元晨光东方永安启明中科云帆智联"
_INDUSTRY = ["科技", "贸易", "餐饮管理", "建筑工程", "文化传媒", "医疗器械", "信息技术", "物流", "咨询服务", "食品"]
_DISTRICTS = {
    110000: ["北京市海淀区", "北京市朝阳区", "北京市东城区", "北京市丰台区"],
    310000: ["上海市浦东新区", "上海市徐汇区", "上海市静安区", "上海市闵行区"],
}
_ROADS = ["中关村大街", "建国路", "长安街", "南京西路", "世纪大道", "漕溪北路", "复兴路", "学院路"]
_SCOPE = (
    "技术开发、技术咨询、技术服务、技术推广、技术转让；软件开发；计算机系统服务；数据处理；基础软件服务；"
    "应用软件服务；销售电子产品、计算机、软件及辅助设备；会议服务；企业管理咨询。（市场主体依法自主选择经营项目，"
    "开展经营活动；依法须经批准的项目，经相关部门批准后依批准的内容开展经营活动；不得从事国家和本市产业政策禁止和"
    "限制类项目的经营活动。）"
)


def _years_later(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def make_uscc(rng: random.Random, *, region: int, authority: str = "9", category: str = "1") -> str:
    """A unified social credit code with a correct check character (GB 32100)."""
    org = "".join(rng.choice(_ORG_ALPHABET) for _ in range(9))
    body = f"{authority}{category}{region:06d}{org}"
    return body + uscc.calc_check_digit(body)


def make_ric(rng: random.Random, *, region: int, born: dt.date) -> str:
    """A resident identity number with a correct check character (GB 11643)."""
    body = f"{region:06d}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a check slot


class SampleFactory:
    """Deterministic sample licenses (seeded)."""

    def __init__(self, seed: int = 2026, *, today: dt.date | None = None) -> None:
        self.rng = random.Random(seed)
        self.today = today or dt.date.today()

    def person(self) -> str:
        return self.rng.choice(_SURNAMES) + "".join(self.rng.choice(_GIVEN) for _ in range(self.rng.choice((1, 2))))

    def company(self, region: int) -> str:
        district = self.rng.choice(_DISTRICTS.get(region, ["北京市海淀区"]))
        words = "".join(self.rng.choice(_WORDS) for _ in range(2))
        return f"{district}{words}{self.rng.choice(_INDUSTRY)}有限公司"

    def address(self, region: int) -> str:
        district = self.rng.choice(_DISTRICTS.get(region, ["北京市海淀区"]))
        room = f"{self.rng.randrange(1, 30)}层{self.rng.randrange(1, 30):02d}{self.rng.randrange(1, 20):02d}室"
        return f"{district}{self.rng.choice(_ROADS)}{self.rng.randrange(1, 300)}号{room}"

    def business_license(
        self, region: int = 110000, *, valid_from: dt.date | None = None, valid_to: dt.date | None = None
    ) -> IssueRequest:
        established = dt.date(2000, 1, 1) + dt.timedelta(days=self.rng.randrange(9000))
        start = valid_from or established
        return IssueRequest(
            license_type="BL",
            valid_from=start,
            valid_to=valid_to,
            fields={
                "name": self.company(region),
                "uscc": make_uscc(self.rng, region=region + self.rng.randrange(1, 17) * 100),
                "entity_type": self.rng.choice((1, 1, 1, 2, 3, 4, 5)),
                "legal_representative": self.person(),
                "registered_capital": self.rng.randrange(1, 500) * 100_000,
                "established": established,
                "term_end": _years_later(established, 30),
                "domicile": self.address(region),
                "business_scope": _SCOPE,
            },
        )

    def food_permit(self, region: int = 110000, *, valid_from: dt.date | None = None) -> IssueRequest:
        start = valid_from or self.today - dt.timedelta(days=self.rng.randrange(1500))
        address = self.address(region)
        return IssueRequest(
            license_type="FB",
            valid_from=start,
            valid_to=_years_later(start, 5) - dt.timedelta(days=1),
            fields={
                "operator_name": self.company(region).replace("有限公司", "餐饮有限公司"),
                "uscc": make_uscc(self.rng, region=region + self.rng.randrange(1, 17) * 100),
                "legal_representative": self.person(),
                "domicile": address,
                "premises": address,
                "main_format": self.rng.choice((1, 2, 3)),
                "business_items": "预包装食品销售（含冷藏冷冻食品）；散装食品销售；热食类食品制售；冷食类食品制售",
                "supervisor": "市场监督管理所",
            },
        )

    def construction_permit(self, region: int = 110000, *, valid_from: dt.date | None = None) -> IssueRequest:
        start = valid_from or dt.date(2024, 1, 1) + dt.timedelta(days=self.rng.randrange(600))
        return IssueRequest(
            license_type="CP",
            valid_from=start,
            valid_to=None,
            fields={
                "project_name": f"{self.rng.choice(_WORDS)}{self.rng.choice(_WORDS)}综合楼工程",
                "builder": self.company(region).replace("有限公司", "置业有限公司"),
                "builder_uscc": make_uscc(self.rng, region=region + self.rng.randrange(1, 17) * 100),
                "site_address": self.address(region).split("号")[0] + "号",
                "scale": f"建筑面积{self.rng.randrange(2, 90) * 1000}平方米，地上{self.rng.randrange(3, 30)}层",
                "contract_price": self.rng.randrange(50, 5000) * 100_000,
                "contractor": self.company(region).replace("有限公司", "建设集团有限公司"),
                "contractor_uscc": make_uscc(self.rng, region=region + self.rng.randrange(1, 17) * 100),
                "planned_start": start,
                "planned_end": start + dt.timedelta(days=self.rng.randrange(300, 1200)),
            },
        )

    def residence_permit(self, region: int = 310000, *, valid_from: dt.date | None = None) -> IssueRequest:
        start = valid_from or self.today - dt.timedelta(days=self.rng.randrange(330))
        born = dt.date(1960, 1, 1) + dt.timedelta(days=self.rng.randrange(15000))
        home_region = self.rng.choice((110105, 110108, 310104, 110102))
        return IssueRequest(
            license_type="RP",
            valid_from=start,
            valid_to=_years_later(start, 1) - dt.timedelta(days=1),
            fields={
                "holder_name": self.person(),
                "ric": make_ric(self.rng, region=home_region, born=born),
                "residence_region": region + 115 if region == 310000 else region + 105,
                "residence_address": self.address(region),
            },
        )


def png_declaring(width: int, height: int) -> bytes:
    """A valid RGBA PNG of ``width`` x ``height`` zero pixels, a few hundred KB for 40 megapixels: the
    decompression bomb an image endpoint must refuse before decoding it."""
    row = b"\x00" * (1 + 4 * width)
    deflate = zlib.compressobj(9)
    body = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
