"""The preset deflate dictionaries of the ``LC2:`` QR format: fixed bytes, part of the format.

A QR payload is a few hundred bytes, too short for deflate to learn anything from itself; what
makes Chinese field values shrink is that they repeat what every license of a type says (region
names, 有限公司, 市场监督管理局, the standard business-scope phrases). Each license type has one
dictionary: the strings shared by every type, then the type's own, all encoded in GB 18030 (the
form ``LC2:`` carries text in), the most frequent last (deflate reaches the end of a dictionary
with the shortest distances).

The dictionaries are version 1 of the ``LC2:`` format: changing one byte makes every ``LC2:``
text that used it undecodable, so they never change. ``tests/test_compact.py`` pins their SHA-256
(:data:`DICTIONARIES_SHA256`); a new set of dictionaries needs a new prefix.
"""

from __future__ import annotations

import functools
import hashlib

__all__ = ["DICTIONARIES_SHA256", "all_dictionaries", "dictionary"]

#: SHA-256 of every type's dictionary, in type-number order, each preceded by its length (4 bytes).
DICTIONARIES_SHA256 = "a3e6368710b61eafeb11f506936137612b1b5c921fc4064e4f8ffdf5dea09f3c"

# Shared by every type: provinces, the regions' common words, organisation forms; most frequent last.
_COMMON = (
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "黑龙江省",
    "吉林省",
    "辽宁省",
    "河北省",
    "山西省",
    "陕西省",
    "甘肃省",
    "青海省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "江西省",
    "安徽省",
    "福建省",
    "台湾省",
    "海南省",
    "贵州省",
    "云南省",
    "四川省",
    "江苏省",
    "浙江省",
    "广东省",
    "香港特别行政区",
    "澳门特别行政区",
    "天津市",
    "重庆市",
    "广州市",
    "深圳市",
    "杭州市",
    "南京市",
    "成都市",
    "武汉市",
    "上海市黄浦区",
    "上海市长宁区",
    "上海市普陀区",
    "上海市虹口区",
    "上海市杨浦区",
    "上海市宝山区",
    "上海市嘉定区",
    "上海市金山区",
    "上海市松江区",
    "上海市青浦区",
    "上海市奉贤区",
    "上海市崇明区",
    "上海市闵行区",
    "上海市静安区",
    "上海市徐汇区",
    "上海市浦东新区",
    "北京市石景山区",
    "北京市门头沟区",
    "北京市房山区",
    "北京市通州区",
    "北京市顺义区",
    "北京市昌平区",
    "北京市大兴区",
    "北京市怀柔区",
    "北京市平谷区",
    "北京市密云区",
    "北京市延庆区",
    "北京市西城区",
    "北京市丰台区",
    "北京市东城区",
    "北京市朝阳区",
    "北京市海淀区",
    "自由贸易试验区",
    "经济技术开发区",
    "高新技术产业开发区",
    "街道",
    "大街",
    "大道",
    "大厦",
    "中心",
    "单元",
    "号楼",
    "号院",
    "弄",
    "幢",
    "栋",
    "路",
    "号",
    "层",
    "室",
    "集团有限公司",
    "股份有限公司",
    "有限责任公司",
    "有限公司",
)

_SCOPE = (
    "许可项目：",
    "一般项目：",
    "（依法须经批准的项目，经相关部门批准后方可开展经营活动，具体经营项目以相关部门批准文件或许可证件为准）",
    "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）",
    "（市场主体依法自主选择经营项目，开展经营活动；依法须经批准的项目，经相关部门批准后依批准的内容开展经营活动；"
    "不得从事国家和本市产业政策禁止和限制类项目的经营活动。）",
    "货物进出口；技术进出口；进出口代理；",
    "国内贸易代理；",
    "广告设计、代理；广告制作；广告发布；",
    "市场营销策划；",
    "信息咨询服务（不含许可类信息咨询服务）；",
    "信息系统集成服务；",
    "人工智能应用软件开发；",
    "互联网销售（除销售需要许可的商品）；",
    "日用百货销售；",
    "办公用品销售；",
    "五金产品批发；",
    "食品销售；",
    "餐饮服务；",
    "住房租赁；",
    "物业管理；",
    "建设工程施工；",
    "企业管理；",
    "组织文化艺术交流活动；",
    "社会经济咨询服务；",
    "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；",
    "软件开发；",
    "计算机系统服务；",
    "数据处理；",
    "基础软件服务；",
    "应用软件服务；",
    "销售电子产品、计算机、软件及辅助设备；",
    "会议服务；",
    "企业管理咨询。",
    "技术开发、技术咨询、技术服务、技术推广、技术转让；",
)
_COMPANY = (
    "农民专业合作社",
    "个人独资企业",
    "合伙企业（有限合伙）",
    "分公司",
    "医疗器械",
    "咨询服务",
    "文化传媒",
    "建筑工程",
    "餐饮管理",
    "信息技术",
    "物流",
    "食品",
    "贸易",
    "科技",
)
_FOOD = (
    "特殊医学用途配方食品销售；",
    "婴幼儿配方乳粉销售；",
    "保健食品销售；",
    "自制饮品制售；",
    "糕点类食品制售；",
    "生食类食品制售；",
    "冷食类食品制售；",
    "热食类食品制售；",
    "散装食品销售（含冷藏冷冻食品）；",
    "散装食品销售；",
    "预包装食品销售（含冷藏冷冻食品）；",
    "餐饮管理有限公司",
    "餐饮有限公司",
    "市场监督管理局",
    "市场监督管理所",
)
_CONSTRUCTION = (
    "房地产开发有限公司",
    "建筑工程有限公司",
    "建设集团有限公司",
    "置业有限公司",
    "住宅楼工程",
    "综合楼工程",
    "办公楼工程",
    "厂房工程",
    "地下",
    "平方米，地上",
    "建筑面积",
)
_FOREIGN = (
    "INTERNATIONAL",
    "HOLDINGS",
    "LIMITED",
    "英属维尔京群岛",
    "开曼群岛",
    "新加坡",
    "美国",
    "日本",
    "韩国",
    "德国",
    "中国台湾",
    "中国澳门",
    "中国香港",
    "国际控股有限公司",
    "外商投资企业",
    "〕",
    "〔",
    "商外资",
)
_TAX = (
    "代扣代缴个人所得税",
    "国家税务总局",
    "税务分局",
    "税务所",
    "税务局",
)
_CUSTOMS = (
    "北京海关",
    "天津海关",
    "广州海关",
    "深圳海关",
    "黄埔海关",
    "上海海关",
    "外高桥港区海关",
    "浦东国际机场海关",
    "洋山海关",
    "海关",
)
_SEAL = ("印章刻制有限公司", "印章", "刻制")

#: Each type's own strings (after the shared ones), by type number.
_BY_TYPE: dict[int, tuple[str, ...]] = {
    1: _COMPANY + _SCOPE,  # business license
    2: _COMPANY + _FOOD,  # food business permit
    3: _COMPANY + _CONSTRUCTION,  # construction permit
    4: (),  # residence permit: names and addresses only
    5: _COMPANY + _SCOPE + _FOREIGN,  # approval of a foreign-invested enterprise
    6: _COMPANY,  # organisation code certificate
    7: _COMPANY + _SCOPE + _TAX,  # tax registration
    8: _COMPANY + _CUSTOMS,  # customs registration
    9: _COMPANY + _SEAL,  # seal engraving permit
}


@functools.cache
def dictionary(type_number: int) -> bytes:
    """The preset dictionary of a license type (its number in the catalogue); empty for a number
    without one, which the decoder refuses before it gets here."""
    strings = _BY_TYPE.get(type_number)
    if strings is None:
        return b""
    return "".join((*_COMMON, *strings)).encode("gb18030")


def all_dictionaries() -> bytes:
    """Every dictionary, in type-number order, each preceded by its length: what
    :data:`DICTIONARIES_SHA256` is the SHA-256 of."""
    out = bytearray()
    for number in sorted(_BY_TYPE):
        data = dictionary(number)
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


def _digest() -> str:
    return hashlib.sha256(all_dictionaries()).hexdigest()
